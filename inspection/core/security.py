"""Security headers, cookie flags and the proxy set-up."""
from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

#: No inline scripts or styles anywhere: every script and stylesheet is a file under /static.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class SessionInterface(SecureCookieSessionInterface):
    """Secure cookies whenever the request came over HTTPS (or the bureau forces it)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SETTINGS"].FORCE_SECURE_COOKIES or request.is_secure)

    def should_set_cookie(self, app: Flask, session) -> bool:
        """Only when the session changed: the idle check's time of the last request
        (``access.SEEN_STEP``) changes it at least once a minute while the user is active,
        which renews the cookie's expiry too. Not on every request (signing and sending the
        cookie again each time costs every signed-in request)."""
        return session.modified


def set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if "Cache-Control" not in headers and response.mimetype in ("text/html",
                                                                 "application/json"):
        # Pages and API answers carry personal data: never stored by any cache. What may be
        # kept (public records that never change) says so itself.
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    if settings.TRUSTED_PROXIES:
        n = settings.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore
    app.session_interface = SessionInterface()
    app.after_request(set_headers)
