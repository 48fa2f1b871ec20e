/*  gateway_audit.h: the audit trail (GatewayRequest.audit: GET
    /api/v1/audit and pmoctl audit), read from the division event streams.
*/
#ifndef GATEWAY_AUDIT_H_INCLUDED
#define GATEWAY_AUDIT_H_INCLUDED

#include "gateway.pb-c.h"
#include "orgtree.h"
#include "gateway_store.h"
#include "pmo_request.h"

//  Answer audit from the division streams (read through store): the events the caller may
//  audit, newest first, filtered and paged as asked (gateway.proto,
//  AuditRequest). orgs names the units and divisions (fresh enough: the
//  caller refreshed it); hub is the enterprise unit's id.
void gateway_audit_handle (gateway_store_t *store, orgtree_t *orgs, const char *hub,
                           pmo_request_t *req, const Pmo__AuditRequest *audit);

#endif
