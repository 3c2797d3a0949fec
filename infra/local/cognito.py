"""Staff sign-in locally: the moto server's Cognito issues ID tokens, and the gateway checks
them against the pool's JWKS exactly as API Gateway's Cognito authorizer does."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

import jwt

from . import template


class TokenRejected(Exception):
    """The token is missing, malformed, expired, forged or for another client."""


@dataclass
class LocalCognito:
    client: Any  # boto3 cognito-idp client bound to the moto server
    endpoint: str
    region: str
    pool_id: str = ""
    client_id: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._password = "Local-" + secrets.token_urlsafe(12) + "9a"
        self._jwks: jwt.PyJWKSet | None = None

    def create_from_template(self) -> None:
        pool_id, pool = next(iter(template.resources("AWS::Cognito::UserPool").items()))
        props = pool["Properties"]
        self.pool_id = self.client.create_user_pool(
            PoolName=template.physical_name(pool_id),
            Schema=props.get("Schema", []),
            AdminCreateUserConfig=props.get("AdminCreateUserConfig", {}),
        )["UserPool"]["Id"]
        _, client = next(iter(template.resources("AWS::Cognito::UserPoolClient").items()))
        self.client_id = self.client.create_user_pool_client(
            UserPoolId=self.pool_id,
            ClientName=client["Properties"].get("ClientName", "local"),
            # Local only: the admin password flow stands in for the store app's SRP sign-in.
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    def token_for(self, *, brand_id: str, role: str, store_id: str | None = None,
                  staff_id: str | None = None) -> str:
        """An ID token for a staff user; the user is created on first use."""
        staff_id = staff_id or "-".join(p for p in (store_id or brand_id, role) if p)
        username = f"{brand_id}.{staff_id}"
        attributes = {"custom:brand_id": brand_id, "custom:role": role, "custom:staff_id": staff_id,
                      "custom:store_id": store_id or ""}
        with self._lock:
            try:
                self.client.admin_get_user(UserPoolId=self.pool_id, Username=username)
                self.client.admin_update_user_attributes(
                    UserPoolId=self.pool_id, Username=username,
                    UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()])
            except self.client.exceptions.UserNotFoundException:
                self.client.admin_create_user(
                    UserPoolId=self.pool_id, Username=username, MessageAction="SUPPRESS",
                    UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()])
                self.client.admin_set_user_password(UserPoolId=self.pool_id, Username=username,
                                                    Password=self._password, Permanent=True)
            result = self.client.admin_initiate_auth(
                UserPoolId=self.pool_id, ClientId=self.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": self._password})
        return result["AuthenticationResult"]["IdToken"]

    def _keys(self) -> jwt.PyJWKSet:
        if self._jwks is None:
            # The moto server routes by Host, as AWS does: ask for the Cognito host.
            request = urllib.request.Request(
                f"{self.endpoint}/{self.pool_id}/.well-known/jwks.json",
                headers={"Host": f"cognito-idp.{self.region}.amazonaws.com"})
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback only
                self._jwks = jwt.PyJWKSet.from_dict(json.loads(response.read()))
        return self._jwks

    def verify(self, authorization: str | None) -> dict[str, str]:
        """Claims of a valid ID token, as API Gateway passes them (all values strings)."""
        if not authorization:
            raise TokenRejected("missing Authorization header")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next((k for k in self._keys().keys if k.key_id == kid), None)
            if key is None:
                raise TokenRejected("token signed with an unknown key")
            claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=self.client_id,
                                issuer=self.issuer, options={"require": ["exp", "iat", "aud", "iss"]})
        except jwt.ExpiredSignatureError:
            raise TokenRejected("token expired") from None
        except jwt.InvalidAudienceError:
            raise TokenRejected("token issued for another app client") from None
        except jwt.InvalidIssuerError:
            raise TokenRejected("token issued by another user pool") from None
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(f"invalid token: {exc}") from None
        if claims.get("token_use") != "id":
            raise TokenRejected("an ID token is required")
        return {k: str(v) for k, v in claims.items()}
