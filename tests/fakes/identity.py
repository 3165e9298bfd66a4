"""The fake Microsoft identity platform (Entra ID v2.0 endpoints), as msal talks to it.

Everything here runs under FakeMicrosoft's lock; nothing in this module is thread-aware.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from .core import FakeRequest, FakeUser, Reply, b64url

if TYPE_CHECKING:
    from .microsoft import FakeMicrosoft

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
RESERVED_SCOPES = ("openid", "profile", "offline_access")
AUTH_CODE_LIFETIME = 600


@dataclass
class AccessToken:
    token: str
    email: str
    client_id: str
    scopes: list[str]
    expires_at: float


@dataclass
class Grant:
    """What one sign-in consented to; every refresh token of that sign-in points here."""

    email: str
    client_id: str
    scopes: list[str]
    public: bool  # obtained without a client secret (device code with a public client)
    revoked: bool = False


@dataclass
class AuthCode:
    email: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    expires_at: float
    redeemed: bool = False


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    scopes: list[str]
    expires_at: float
    status: str = "pending"  # pending, approved, denied, redeemed
    email: str | None = None


@dataclass
class IdentityState:
    codes: dict[str, AuthCode] = field(default_factory=dict)
    device_codes: dict[str, DeviceCode] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    id_tokens: list[tuple[str, str]] = field(default_factory=list)  # (email, id_token)
    token_requests: Counter[str] = field(default_factory=Counter)


def _oauth_error(
    status: int, error: str, description: str, code: int, headers: dict[str, str] | None = None
) -> Reply:
    now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    trace = str(uuid.uuid4())
    payload = {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Timestamp: {now}",
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": str(uuid.uuid4()),
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return Reply.json(status, payload, headers, graph=False)


def _missing_secret() -> Reply:
    return _oauth_error(
        401,
        "invalid_client",
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
        7000218,
    )


def _page(status: int, title: str, text: str) -> Reply:
    body = f"<!doctype html><title>{html.escape(title)}</title><p>{html.escape(text)}</p>"
    return Reply(status, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


def _scopes(text: str | None) -> list[str]:
    return [scope for scope in (text or "").split() if scope]


def _granted(requested: list[str]) -> list[str]:
    return list(dict.fromkeys([*requested, *RESERVED_SCOPES]))


class FakeIdentity:
    def __init__(self, fake: FakeMicrosoft) -> None:
        self.fake = fake
        self.state = IdentityState()

    # -- routing ------------------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> Reply:
        parts = request.path.strip("/").split("/")
        if request.path == "/devicelogin":
            return _page(200, "Device login", "Enter the code shown on your device.")
        if len(parts) < 2:
            return _page(404, "Not found", f"No identity endpoint at {request.path}")
        tenant, rest = parts[0], "/".join(parts[1:])
        if tenant.lower() not in self.known_tenants():
            return _oauth_error(
                400,
                "invalid_tenant",
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID.",
                90002,
            )
        routes = {
            ("GET", "v2.0/.well-known/openid-configuration"): self.discovery,
            ("GET", "oauth2/v2.0/authorize"): self.authorize,
            ("POST", "oauth2/v2.0/authorize"): self.authorize,
            ("POST", "oauth2/v2.0/token"): self.token,
            ("POST", "oauth2/v2.0/devicecode"): self.device_code,
            ("GET", "discovery/v2.0/keys"): self.keys,
        }
        handler = routes.get((request.method, rest))
        if handler is None:
            return _page(404, "Not found", f"No identity endpoint {request.method} {request.path}")
        return handler(request, tenant)

    def known_tenants(self) -> set[str]:
        return {"common", "organizations", self.fake.tenant_id, self.fake.tenant.lower()}

    def issuer(self) -> str:
        return f"{self.fake.base_url}/{self.fake.tenant_id}/v2.0"

    # -- endpoints ----------------------------------------------------------------------------

    def discovery(self, request: FakeRequest, tenant: str) -> Reply:
        base = f"{self.fake.base_url}/{tenant}"
        return Reply.json(
            200,
            {
                "issuer": self.issuer(),
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "userinfo_endpoint": f"{self.fake.graph_url}/oidc/userinfo",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "response_types_supported": ["code", "id_token", "code id_token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["HS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "nbf",
                    "name",
                    "nonce",
                    "oid",
                    "preferred_username",
                    "tid",
                    "ver",
                ],
                "request_uri_parameter_supported": False,
                "tenant_region_scope": None,
                "cloud_instance_name": "microsoftonline.com",
                "msgraph_host": urlsplit(self.fake.graph_url).netloc,
            },
            graph=False,
        )

    def keys(self, request: FakeRequest, tenant: str) -> Reply:
        # id_tokens are HS256-signed with the client secret, so there is no public key to list.
        return Reply.json(200, {"keys": []}, graph=False)

    def authorize(self, request: FakeRequest, tenant: str) -> Reply:
        params = dict(request.query)
        if request.method == "POST":
            params.update(request.form())
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if client_id != self.fake.client_id:
            return _page(400, "Sign in", f"AADSTS700016: Application '{client_id}' was not found.")
        allowed = self.fake.redirect_uris
        parsed_redirect = urlsplit(redirect_uri)
        if (
            parsed_redirect.scheme not in ("http", "https")
            or not parsed_redirect.netloc
            or (allowed is not None and redirect_uri not in allowed)
        ):
            return _page(
                400,
                "Sign in",
                f"AADSTS50011: The redirect URI '{redirect_uri}' does not match the redirect "
                "URIs configured for the application.",
            )
        answer: dict[str, str] = {}
        state = params.get("state")
        email = params.get("login_hint") or self.fake.next_sign_in
        user = self.fake.find_user(email) if email else None
        scopes = _scopes(params.get("scope"))
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method") or ("plain" if challenge else None)
        if params.get("response_type") != "code":
            answer = {
                "error": "unsupported_response_type",
                "error_description": "AADSTS700054: Only response_type=code is supported here.",
            }
        elif not scopes:
            answer = {
                "error": "invalid_request",
                "error_description": "AADSTS900144: The request body must contain 'scope'.",
            }
        elif challenge and method != "S256":
            answer = {
                "error": "invalid_request",
                "error_description": "AADSTS501491: Only code_challenge_method=S256 is supported.",
            }
        elif self.fake.next_sign_in_error:
            answer = {
                "error": self.fake.next_sign_in_error,
                "error_description": "AADSTS65004: User declined to consent to access the app.",
            }
        elif user is None:
            answer = {
                "error": "login_required",
                "error_description": (
                    f"AADSTS50058: nobody to sign in as {email!r}: add the user with "
                    "fake.add_user() and set fake.next_sign_in or send login_hint."
                ),
            }
        else:
            code = "fake-code." + secrets.token_urlsafe(24)
            self.state.codes[code] = AuthCode(
                email=user.email,
                client_id=client_id,
                redirect_uri=redirect_uri,
                scopes=scopes,
                code_challenge=challenge,
                code_challenge_method=method,
                nonce=params.get("nonce"),
                expires_at=time.time() + AUTH_CODE_LIFETIME,
            )
            answer = {"code": code}
            if params.get("client_info") == "1":
                answer["client_info"] = self.client_info(user)
            answer["session_state"] = str(uuid.uuid4())
        if state is not None:
            answer["state"] = state
        if params.get("response_mode") == "form_post":
            inputs = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in answer.items()
            )
            page = (
                f'<!doctype html><form method="post" action="{html.escape(redirect_uri)}">'
                f"{inputs}</form>"
            )
            return Reply(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
        return Reply(302, b"", {"Location": _with_query(redirect_uri, answer)})

    def device_code(self, request: FakeRequest, tenant: str) -> Reply:
        form = request.form()
        if form.get("client_id") != self.fake.client_id:
            return _oauth_error(
                400,
                "unauthorized_client",
                f"Application with identifier '{form.get('client_id')}' was not found.",
                700016,
            )
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        device_code = "fake-device." + secrets.token_urlsafe(24)
        lifetime = self.fake.device_code_lifetime
        self.state.device_codes[device_code] = DeviceCode(
            device_code=device_code,
            user_code=user_code,
            client_id=form["client_id"],
            scopes=_scopes(form.get("scope")),
            expires_at=time.time() + lifetime,
        )
        verification_uri = f"{self.fake.base_url}/devicelogin"
        return Reply.json(
            200,
            {
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri": verification_uri,
                "expires_in": lifetime,
                "interval": self.fake.device_code_interval,
                "message": (
                    f"To sign in, use a web browser to open the page {verification_uri} "
                    f"and enter the code {user_code} to authenticate."
                ),
            },
            graph=False,
        )

    def token(self, request: FakeRequest, tenant: str) -> Reply:
        form = request.form()
        grant_type = form.get("grant_type", "")
        self.state.token_requests[grant_type] += 1
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic.lower().startswith("basic "):
            decoded = base64.b64decode(basic[6:]).decode("utf-8")
            basic_id, _, basic_secret = decoded.partition(":")
            client_id, secret = unquote_plus(basic_id), unquote_plus(basic_secret)
        if client_id != self.fake.client_id:
            return _oauth_error(
                401,
                "invalid_client",
                f"Application with identifier '{client_id}' was not found in the directory.",
                700016,
            )
        if secret is not None and secret != self.fake.client_secret:
            return _oauth_error(
                401,
                "invalid_client",
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID.",
                7000215,
            )
        form["client_id"] = client_id
        public = secret is None
        if grant_type == "authorization_code":
            return self._redeem_code(form, public)
        if grant_type == "refresh_token":
            return self._refresh(form, public)
        if grant_type == DEVICE_CODE_GRANT:
            return self._poll_device_code(form, public)
        return _oauth_error(
            400,
            "unsupported_grant_type",
            f"The provided value for 'grant_type' ({grant_type!r}) is not supported.",
            70003,
        )

    # -- grants -------------------------------------------------------------------------------

    def _redeem_code(self, form: dict[str, str], public: bool) -> Reply:
        if public:
            return _missing_secret()
        code = self.state.codes.get(form.get("code", ""))
        if code is None or code.client_id != form["client_id"]:
            return _oauth_error(
                400, "invalid_grant", "Malformed or unknown authorization code.", 9002313
            )
        if code.redeemed:
            return _oauth_error(
                400, "invalid_grant", "OAuth2 Authorization code was already redeemed.", 54005
            )
        if time.time() > code.expires_at:
            return _oauth_error(
                400, "invalid_grant", "The provided authorization code has expired.", 70008
            )
        if form.get("redirect_uri") != code.redirect_uri:
            return _oauth_error(
                400,
                "invalid_grant",
                "The reply URL specified in the request does not match the reply URL of the "
                "authorization code.",
                500112,
            )
        if code.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            computed = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
            if not verifier or not hmac.compare_digest(computed, code.code_challenge):
                return _oauth_error(
                    400,
                    "invalid_grant",
                    "The code_verifier does not match the code_challenge supplied in the "
                    "authorization request.",
                    501481,
                )
        code.redeemed = True
        scopes = _scopes(form.get("scope")) or code.scopes
        grant = Grant(
            email=code.email, client_id=code.client_id, scopes=_granted(scopes), public=False
        )
        return self._issue(grant, scopes, form, nonce=code.nonce)

    def _refresh(self, form: dict[str, str], public: bool) -> Reply:
        grant = self.state.refresh_tokens.get(form.get("refresh_token", ""))
        if grant is None:
            return _oauth_error(
                400,
                "invalid_grant",
                "The provided refresh token is malformed or was not issued by this fake.",
                9002313,
            )
        # Entra ID binds a refresh token to how it was obtained: one from a public-client flow
        # (device code) must be redeemed without a secret, a confidential one with it.
        if grant.public and not public:
            return _oauth_error(
                401,
                "invalid_client",
                "Client is public so neither 'client_assertion' nor 'client_secret' should be "
                "presented.",
                700025,
            )
        if public and not grant.public:
            return _missing_secret()
        if grant.revoked:
            return _oauth_error(
                400,
                "invalid_grant",
                "The refresh token has expired or is invalid due to sign-in frequency checks "
                "by conditional access, or because it was revoked. The user must sign in again.",
                70000,
            )
        if self.fake.find_user(grant.email) is None:
            return _oauth_error(400, "invalid_grant", "The user account does not exist.", 50034)
        scopes = _scopes(form.get("scope")) or grant.scopes
        return self._issue(grant, scopes, form)

    def _poll_device_code(self, form: dict[str, str], public: bool) -> Reply:
        pending = self.state.device_codes.get(form.get("device_code") or form.get("code") or "")
        if pending is None:
            return _oauth_error(
                400, "bad_verification_code", "The device code is not recognised.", 70019
            )
        if pending.status == "redeemed":
            return _oauth_error(400, "invalid_grant", "The device code was already used.", 70000)
        if time.time() > pending.expires_at:
            return _oauth_error(400, "expired_token", "The device code has expired.", 70020)
        if pending.status == "denied":
            return _oauth_error(
                400, "authorization_declined", "The end user denied the request.", 70000
            )
        if pending.status == "pending" and self.fake.auto_approve_device_codes:
            try:
                self.approve_device_code(pending.user_code, self.fake.auto_approve_device_codes)
            except LookupError as error:
                return _oauth_error(400, "invalid_grant", str(error), 50034)
        if pending.status == "pending":
            return _oauth_error(
                400,
                "authorization_pending",
                "The user has not yet finished authenticating, but did not cancel the flow.",
                70016,
            )
        pending.status = "redeemed"
        assert pending.email is not None
        grant = Grant(
            email=pending.email,
            client_id=pending.client_id,
            scopes=_granted(pending.scopes),
            public=public,
        )
        return self._issue(grant, _scopes(form.get("scope")) or pending.scopes, form)

    def _issue(
        self, grant: Grant, scopes: list[str], form: dict[str, str], nonce: str | None = None
    ) -> Reply:
        user = self.fake.find_user(grant.email)
        assert user is not None
        granted = _granted(scopes)
        lifetime = self.fake.access_token_lifetime
        access = "fake-at." + secrets.token_urlsafe(32)
        self.state.access_tokens[access] = AccessToken(
            token=access,
            email=user.email,
            client_id=grant.client_id,
            scopes=granted,
            expires_at=time.time() + lifetime,
        )
        payload: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(granted),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access,
        }
        if "offline_access" in granted:
            refresh = "fake-rt." + secrets.token_urlsafe(40)
            self.state.refresh_tokens[refresh] = grant
            payload["refresh_token"] = refresh
        if "openid" in granted:
            payload["id_token"] = self.id_token(user, grant.client_id, nonce)
            self.state.id_tokens.append((user.email, payload["id_token"]))
        if form.get("client_info") == "1":
            payload["client_info"] = self.client_info(user)
        return Reply.json(200, payload, {"Cache-Control": "no-store"}, graph=False)

    # -- tokens -------------------------------------------------------------------------------

    def sign_in(self, email: str, scopes: list[str], public: bool) -> dict[str, Any]:
        """Tokens for `email` as a completed sign-in would give them, without any HTTP."""
        user = self.fake.find_user(email)
        if user is None:
            raise LookupError(f"no fake user {email!r}: call fake.add_user() first")
        grant = Grant(
            email=user.email,
            client_id=self.fake.client_id,
            scopes=_granted(scopes),
            public=public,
        )
        return self._issue(grant, scopes, {"client_info": "1"}).json_body()

    def client_info(self, user: FakeUser) -> str:
        return b64url(json.dumps({"uid": user.oid, "utid": user.tenant_id}).encode())

    def id_token(self, user: FakeUser, client_id: str, nonce: str | None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": client_id,
            "iss": self.issuer(),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "auth_time": now,
            "name": user.name,
            "oid": user.oid,
            "preferred_username": user.email,
            "email": user.email,
            "sub": b64url(hashlib.sha256(f"{user.oid}:{client_id}".encode()).digest()),
            "tid": user.tenant_id,
            "ver": "2.0",
            "uti": secrets.token_urlsafe(16),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        header = b64url(json.dumps({"typ": "JWT", "alg": "HS256", "kid": "fake"}).encode())
        body = b64url(json.dumps(claims).encode())
        signature = hmac.new(
            self.fake.client_secret.encode(), f"{header}.{body}".encode(), hashlib.sha256
        ).digest()
        return f"{header}.{body}.{b64url(signature)}"

    def user_for_access_token(self, header: str | None) -> tuple[FakeUser | None, str]:
        """The user a Bearer header speaks for, or None and why not."""
        if not header or not header.lower().startswith("bearer "):
            return None, "Access token is empty."
        record = self.state.access_tokens.get(header[7:].strip())
        if record is None:
            return None, "IDX14100: JWT is not well formed, there are no dots (.)."
        if time.time() >= record.expires_at:
            return None, "Lifetime validation failed, the token is expired."
        user = self.fake.find_user(record.email)
        if user is None:
            return None, "The user of this token no longer exists."
        return user, ""

    def scopes_of(self, header: str | None) -> set[str]:
        """The permissions an access token carries (bare names, as msal asks for them)."""
        if not header or not header.lower().startswith("bearer "):
            return set()
        record = self.state.access_tokens.get(header[7:].strip())
        if record is None:
            return set()
        return {scope.rsplit("/", 1)[-1] for scope in record.scopes}

    def approve_device_code(self, user_code: str, email: str) -> None:
        user = self.fake.find_user(email)
        if user is None:
            raise LookupError(f"no fake user {email!r}: call fake.add_user() first")
        self._device_code_by_user_code(user_code).status = "approved"
        self._device_code_by_user_code(user_code).email = user.email

    def deny_device_code(self, user_code: str) -> None:
        self._device_code_by_user_code(user_code).status = "denied"

    def _device_code_by_user_code(self, user_code: str) -> DeviceCode:
        for pending in self.state.device_codes.values():
            if pending.user_code == user_code:
                return pending
        raise LookupError(f"no device code with user code {user_code!r}")

    def expire_access_tokens(self, email: str | None) -> int:
        expired = 0
        for record in self.state.access_tokens.values():
            if email is None or record.email.lower() == email.lower():
                record.expires_at = 0
                expired += 1
        return expired

    def revoke_refresh_tokens(self, email: str) -> int:
        revoked = 0
        for grant in self.state.refresh_tokens.values():
            if grant.email.lower() == email.lower() and not grant.revoked:
                grant.revoked = True
                revoked += 1
        return revoked

    def issued_tokens(self, email: str | None) -> list[str]:
        def wanted(owner: str) -> bool:
            return email is None or owner.lower() == email.lower()

        tokens = [t.token for t in self.state.access_tokens.values() if wanted(t.email)]
        tokens += [rt for rt, grant in self.state.refresh_tokens.items() if wanted(grant.email)]
        tokens += [token for owner, token in self.state.id_tokens if wanted(owner)]
        return tokens


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))
