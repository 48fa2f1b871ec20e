// sso.js: single sign-on (OpenID Connect through the gateway).
//
// When the gateway has single sign-on (GET /auth/config), the sign-in card
// offers "Sign in with single sign-on": /auth/login sends the browser to the
// identity provider and /auth/callback back here with a session cookie
// (HttpOnly: this script never sees it). The dashboard then calls the API
// without a bearer token; changes carry the session's X-CSRF-Token (from
// /api/v1/whoami). Sign-out ends the session at the gateway, then at the
// provider when it offers that.

export const sso = {
  csrf: null,        // the session's CSRF token; null when not signed in by session
  enabled: false,

  // Ask the gateway whether single sign-on is on, and offer it.
  async offer() {
    try {
      const res = await fetch("/auth/config", { headers: { Accept: "application/json" } });
      const config = res.ok ? await res.json() : {};
      this.enabled = !!config.sso;
    } catch (e) {
      this.enabled = false;
    }
    document.getElementById("sso").hidden = !this.enabled;
    return this.enabled;
  },

  // Is this browser signed in by session? (whoami answers without a token)
  async session() {
    if (!this.enabled) return false;
    const res = await fetch("/api/v1/whoami", { headers: { Accept: "application/json" } });
    if (!res.ok) return false;
    const who = await res.json();
    this.csrf = who.csrf || null;
    return !!this.csrf;
  },

  // The headers a request of method needs when signed in by session.
  headers(method) {
    return this.csrf && method !== "GET" && method !== "HEAD" ? { "X-CSRF-Token": this.csrf } : {};
  },

  // End the session; then the provider's sign-out if it has one.
  async signOut() {
    const csrf = this.csrf;
    this.csrf = null;
    if (!csrf) return;
    try {
      const res = await fetch("/auth/logout", { method: "POST", headers: { "X-CSRF-Token": csrf } });
      const done = res.ok ? await res.json() : {};
      if (done.end_session) location.assign(done.end_session);
    } catch (e) {
      // A gateway that cannot be reached: the cookie expires with the session
    }
  },
};
