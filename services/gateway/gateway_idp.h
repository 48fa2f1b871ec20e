/*  gateway_idp.h: the OpenID provider's client, an actor of its own.

    Everything that talks HTTP to the provider blocks (libcurl, a few
    seconds at worst), so none of it runs on the reactor: this actor
    fetches the discovery document and the key set (JWKS) at start (again
    with backoff while the provider cannot be reached), refreshes the key
    set every jwks_refresh_s and whenever the reactor asks (a JWT named a
    key it does not have: the provider rotated its keys), and exchanges an
    authorization code for tokens at sign-in. Its answers go back on the
    actor's pipe as strings:

        reactor -> idp   "JWKS"                          fetch the key set now
                         "TOKEN" wait_id code verifier   exchange a code (PKCE)
        idp -> reactor   "DISCOVERY" text                the discovery document
                         "JWKS" text                     the key set ("" if the fetch failed)
                         "TOKEN" wait_id status body     the token endpoint's answer
                                                         (status "0": unreachable)
*/
#ifndef GATEWAY_IDP_H_INCLUDED
#define GATEWAY_IDP_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

typedef struct {
    const char *issuer;        //  discovery is <issuer>/.well-known/openid-configuration
    const char *client_id;     //  the dashboard's client
    const char *client_secret; //  "" for a public client (PKCE alone)
    const char *redirect_uri;  //  sent with the code, as at the authorization request
    int refresh_s;             //  fetch the key set this often
} gateway_idp_config_t;

//  zactor_new (gateway_idp_actor, &config): the config's strings must
//  outlive the actor.
void gateway_idp_actor (zsock_t *pipe, void *args);

#endif
