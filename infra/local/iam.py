"""Each function runs with the credentials of its own execution role, and moto checks them.

The transformed template defines one IAM role per function (policy templates expanded);
moto's CloudFormation creates them (resources.py, with customer managed copies of the AWS
managed policies the transform attaches: moto's CloudFormation ignores ManagedPolicyArns).
`enforce()` then

* assumes each function's role through STS, as Lambda does, and keeps the session,
* creates an administrator user for everything that is not a function (test set-up and checks,
  the local stack's own plumbing),
* and switches moto's IAM access control on (`settings.INITIAL_NO_AUTH_ACTION_COUNT = 0`).

`running_as(function)` (used by `lambdas.handler_for`, so by every invocation: API, queue
consumers, scheduled jobs) makes every AWS request of the invocation - whatever client sends
it, pynamodb's included - signed with that function's session: botocore's signer takes the
credentials of the current context (a ContextVar, so per thread). Outside an invocation
requests are signed as the administrator.

moto's own policy check evaluates most services against the resource `*`, knows no
transactions and nothing of KMS behind SQS and SNS; `_authorize` replaces it with the
checks AWS makes (docs/operations.md, "Permissions"):

* DynamoDB: the table (or `table/<t>/index/<i>`) ARN of the request; each item of a
  TransactWriteItems / TransactGetItems as its own action (PutItem, UpdateItem, DeleteItem,
  ConditionCheckItem, GetItem) on its table; BatchWriteItem / BatchGetItem on every table;
* SQS: the queue's ARN, and for a queue encrypted with a customer key kms:GenerateDataKey and
  kms:Decrypt on the key to send, kms:Decrypt to receive;
* SNS: the topic's ARN (`*` for SMS to a phone number and for CheckIfPhoneNumberIsOptedOut),
  and kms:GenerateDataKey + kms:Decrypt on an encrypted topic's key to publish;
* EventBridge: PutEvents on each entry's bus ARN;
* KMS: the key's ARN;
* and Lambda's own kms:Decrypt of the function's environment (KmsKeyArn) when it starts.

Identity-based policies only: an explicit Deny wins, then any Allow; a statement with a
Condition is not applied (moto has no request context for it). Resource policies (queue
policies, key policies) are not evaluated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from . import template, transform

ADMIN_USER = "vipcare-local-admin"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Session:
    access_key: str
    secret_key: str
    token: str | None = None


@dataclass
class _State:
    admin: Session | None = None
    sessions: dict[str, Session] = field(default_factory=dict)  # function logical id -> role session
    # function -> why Lambda could not start it (its role cannot decrypt its environment)
    start_failures: dict[str, str] = field(default_factory=dict)
    saved_settings: tuple[float, int] | None = None
    # every call refused since enforce(): a handler may swallow an error, the harness must not
    denials: list[str] = field(default_factory=list)


_state = _State()
_current: ContextVar[Session | None] = ContextVar("vipcare_function_session", default=None)
_installed = False


class FunctionStartError(RuntimeError):
    """Lambda could not start the function (KMSAccessDeniedException for its environment)."""


# ------------------------------------------------------------------------------- switching

def active() -> bool:
    return _state.admin is not None


def operator() -> Session | None:
    """The administrator's access key (everything allowed): what a person or an e2e check uses
    to look into the local stack's AWS directly (`make run` prints it)."""
    return _state.admin


def session_for(function: str) -> Session | None:
    return _state.sessions.get(function)


@contextmanager
def running_as(function: str | None) -> Iterator[None]:
    """Every AWS request inside is signed with the function's role session (no-op while
    enforcement is off or for an unknown function)."""
    session = _state.sessions.get(function) if function else None
    if session is None:
        yield
        return
    if function in _state.start_failures:
        raise FunctionStartError(_state.start_failures[function])
    token = _current.set(session)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def as_admin() -> Iterator[None]:
    """Back to the administrator inside an invocation (the local stand-ins' own plumbing)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def install() -> None:
    """Patch botocore's signer and moto's authorizer (once per process; inert until enforce())."""
    global _installed
    if _installed:
        return
    import botocore.credentials
    import botocore.signers
    from moto.core.authorization import ActionAuthenticatorMixin

    original = botocore.signers.RequestSigner.get_auth_instance

    def get_auth_instance(self: Any, *args: Any, **kwargs: Any) -> Any:
        admin = _state.admin
        if admin is not None:
            session = _current.get() or admin
            kwargs["request_credentials"] = botocore.credentials.Credentials(
                session.access_key, session.secret_key, session.token)
        return original(self, *args, **kwargs)

    botocore.signers.RequestSigner.get_auth_instance = get_auth_instance  # type: ignore[method-assign]
    botocore.signers.RequestSigner.get_auth = get_auth_instance  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = _authorize  # type: ignore[method-assign]
    _installed = True


# ------------------------------------------------------------------------------- set-up

@cache
def _aws_managed_documents() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


def managed_policy_document(arn: str) -> dict[str, Any]:
    """The document of an AWS managed policy (moto's copy of AWS's)."""
    name = arn.rsplit("/", 1)[-1]
    return _aws_managed_documents()[name]["Document"]


def enforce(client: Callable[[str], Any], names: dict[str, str],
            cloudformation: dict[str, Any] | None = None) -> None:
    """Give each function its role session and switch moto's access control on. Call once the
    stack exists (resources.create_all), before anything runs; `relax()` undoes it."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    install()
    functions = template.functions(cloudformation) if cloudformation is not None else template.functions()
    iam, sts = client("iam"), client("sts")  # the roles and their policies come with the stack
    resolver = transform.Resolver(names, template.parameter_defaults())
    sessions: dict[str, Session] = {}
    failures: dict[str, str] = {}
    for function, props in functions.items():
        role_id = props["RoleId"]
        credentials = sts.assume_role(RoleArn=names[f"{role_id}.Arn"], RoleSessionName=function)["Credentials"]
        sessions[function] = Session(credentials["AccessKeyId"], credentials["SecretAccessKey"],
                                     credentials["SessionToken"])
        if props.get("KmsKeyArn"):
            key_arn = resolver.resolve(props["KmsKeyArn"])
            if not allowed(role_documents(names[role_id]), "kms:Decrypt", key_arn):
                failures[function] = (f"KMSAccessDeniedException: Lambda was unable to decrypt the environment "
                                      f"variables of {function}: its role {names[role_id]} may not kms:Decrypt "
                                      f"{key_arn}")
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(UserName=ADMIN_USER, PolicyName="everything", PolicyDocument=json.dumps(ADMIN_POLICY))
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    _state.sessions = sessions
    _state.start_failures = failures
    _state.denials = []
    if _state.saved_settings is None:
        _state.saved_settings = (settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count)
    _state.admin = Session(key["AccessKeyId"], key["SecretAccessKey"])
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0


def relax() -> None:
    """Access control off again, every client back to its own credentials."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    if _state.saved_settings is not None:
        settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = _state.saved_settings
    _state.admin = None
    _state.sessions = {}
    _state.start_failures = {}
    _state.saved_settings = None
    _state.denials = []


# ------------------------------------------------------------------------------- evaluation

def _documents(raw: Any) -> dict[str, Any]:
    from moto.iam.models import Policy

    if isinstance(raw, Policy):
        raw = next(v for v in raw.versions if v.is_default).document
    if isinstance(raw, dict) and "policy_document" in raw:
        raw = raw["policy_document"]
    return json.loads(raw) if isinstance(raw, str) else raw


def role_documents(role_name: str, account_id: str = transform.ACCOUNT) -> list[dict[str, Any]]:
    """Every policy document of a role in moto's IAM: inline and attached."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id][transform.PARTITION]
    role = backend.get_role(role_name)
    docs = [_documents(doc) for doc in role.policies.values()]
    docs += [_documents(policy) for policy in role.managed_policies.values()]
    return docs


@lru_cache(maxsize=4096)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _compiled(pattern, ignore_case).match(value) is not None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statement_applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    if "Condition" in statement:
        return False
    if "NotAction" in statement:
        if any(_glob(a, action, ignore_case=True) for a in _as_list(statement["NotAction"])):
            return False
    elif not any(_glob(a, action, ignore_case=True) for a in _as_list(statement.get("Action", []))):
        return False
    if "NotResource" in statement:
        return not any(_glob(r, resource) for r in _as_list(statement["NotResource"]))
    return any(_glob(r, resource) for r in _as_list(statement.get("Resource", [])))


def allowed(documents: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Identity-based evaluation: an explicit Deny wins, then any Allow, else implicitly denied."""
    verdict = False
    for doc in documents:
        for statement in _as_list(doc.get("Statement", [])):
            if _statement_applies(statement, action, resource):
                if statement.get("Effect") == "Deny":
                    return False
                verdict = True
    return verdict


# The AWS error each service answers for a denied call: (code, HTTP status, JSON body?)
_DENIED = {
    "dynamodb": ("AccessDeniedException", 400, True),
    "events": ("AccessDeniedException", 400, True),
    "kms": ("AccessDeniedException", 400, True),
    "logs": ("AccessDeniedException", 400, True),
    "cognito-idp": ("AccessDeniedException", 400, True),
    "sqs": ("AccessDenied", 403, True),
    "sns": ("AuthorizationError", 403, False),
}


def _denied(service: str, principal: str, action: str, resource: str) -> Exception:
    from moto.core.exceptions import JsonRESTError, _RESTError

    code, status, as_json = _DENIED.get(service, ("AccessDenied", 403, False))
    message = (f"User: {principal} is not authorized to perform: {action} on resource: {resource} "
               f"because no identity-based policy allows the {action} action")
    error = (JsonRESTError if as_json else _RESTError)(code, message)
    error.code = status
    return error


def _authorize(self: Any, resource: str = "*") -> None:
    """Stands in for moto's ActionAuthenticatorMixin._authenticate_and_authorize_normal_action."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMRequest

    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1
        return
    if self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
        return
    from urllib.parse import urlparse

    path = self.raw_path
    query = urlparse(self.uri).query
    if query:
        path += "?" + query
    request = IAMRequest(account_id=self.current_account, method=self.method, path=path, data=self.data,
                         body=self.raw_body, headers=self.headers, action=self._get_action())
    request.check_signature()
    if _state.admin is not None and request._access_key._access_key_id == _state.admin.access_key:
        return  # the administrator may do anything: no need to evaluate
    service = request._service
    action = self._get_action()
    needed = required_permissions(self, service, action, resource, request._region)
    if service in ("sts", "iam") and _state.admin is not None:
        # moto's own check knows the trust policies of AssumeRole; keep it for these two.
        request.check_action_permitted(resource)
        return
    documents = _principal_documents(request)
    principal = request._access_key.arn
    for needed_action, needed_resource in needed:
        if not allowed(documents, needed_action, needed_resource):
            _state.denials.append(f"{principal} {action}: {needed_action} on {needed_resource}")
            raise _denied(service, principal, needed_action, needed_resource)


def denials() -> list[str]:
    """The calls refused since enforce() (principal, API call, the permission it lacked)."""
    return list(_state.denials)


def _principal_documents(request: Any) -> list[dict[str, Any]]:
    return [_documents(p) for p in request._access_key.collect_policies()]


def _body(response: Any) -> dict[str, Any]:
    """The request's JSON body as sent (moto may already have parsed `body`)."""
    raw = getattr(response, "raw_body", None) or response.body
    if isinstance(raw, dict):
        return raw
    try:
        return json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return response.body if isinstance(response.body, dict) else {}


def _table_arn(name: str, region: str, account: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:{transform.PARTITION}:dynamodb:{region}:{account}:table/{name}"


_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _key_arn(key: str | None, region: str, account: str) -> str | None:
    """A KMS key reference (id, ARN, alias) as the key's ARN; None for AWS managed keys."""
    if not key:
        return None
    if key.startswith("arn:") and ":key/" in key:
        return key
    if "alias/" in key:
        if key.split("alias/", 1)[1].startswith("aws/"):
            return None
        from moto.kms.models import kms_backends

        backend = kms_backends[account][region]
        try:
            key_id = backend.get_key_id_from_alias("alias/" + key.split("alias/", 1)[1])
        except Exception:  # noqa: BLE001 - an unknown alias: the call itself will fail
            return None
        return f"arn:{transform.PARTITION}:kms:{region}:{account}:key/{key_id}" if key_id else None
    return f"arn:{transform.PARTITION}:kms:{region}:{account}:key/{key}"


def required_permissions(response: Any, service: str, action: str, resource: str, region: str
                         ) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs AWS checks for this request."""
    account = response.current_account
    if service == "dynamodb":
        body = _body(response)
        if action in ("TransactWriteItems", "TransactGetItems"):
            out = []
            for item in body.get("TransactItems", []):
                (kind, spec), = item.items()
                out.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table_arn(spec["TableName"], region, account)))
            return out
        if action in ("BatchWriteItem", "BatchGetItem"):
            return [(f"dynamodb:{action}", _table_arn(t, region, account)) for t in body.get("RequestItems", {})]
        if "TableName" in body:
            arn = _table_arn(body["TableName"], region, account)
            if body.get("IndexName"):
                arn += f"/index/{body['IndexName']}"
            return [(f"dynamodb:{action}", arn)]
        return [(f"dynamodb:{action}", "*")]
    if service == "sqs":
        # a batch call is authorized as its single action: there is no sqs:SendMessageBatch
        out = [(f"sqs:{action.removesuffix('Batch')}", resource)]
        key = _queue_key(response, resource, region, account)
        if key and action in ("SendMessage", "SendMessageBatch"):
            out += [("kms:GenerateDataKey", key), ("kms:Decrypt", key)]
        elif key and action == "ReceiveMessage":
            out.append(("kms:Decrypt", key))
        return out
    if service == "sns":
        topic = response._get_param("TopicArn") or response._get_param("TargetArn")
        if action == "Publish" and not topic:
            return [("sns:Publish", "*")]  # SMS to a phone number
        out = [(f"sns:{action.removesuffix('Batch')}", topic or "*")]
        if action in ("Publish", "PublishBatch") and topic:
            key = _topic_key(topic, region, account)
            if key:
                out += [("kms:GenerateDataKey", key), ("kms:Decrypt", key)]
        return out
    if service == "events":
        body = _body(response)
        if action == "PutEvents":
            buses = {e.get("EventBusName") or "default" for e in body.get("Entries", [])}
            return [("events:PutEvents", b if b.startswith("arn:") else
                     f"arn:{transform.PARTITION}:events:{region}:{account}:event-bus/{b}") for b in sorted(buses)]
        return [(f"events:{action}", "*")]
    if service == "kms":
        key = _key_arn(_body(response).get("KeyId"), region, account)
        return [(f"kms:{action}", key or "*")]
    return [(f"{service}:{action}", resource)]


def _queue_key(response: Any, queue_arn: str, region: str, account: str) -> str | None:
    if not queue_arn.startswith("arn:"):
        return None
    try:
        queue = response.sqs_backend.get_queue(queue_arn.rsplit(":", 1)[-1])
    except Exception:  # noqa: BLE001 - no such queue: the call itself answers that
        return None
    return _key_arn(getattr(queue, "kms_master_key_id", None), region, account)


def _topic_key(topic_arn: str, region: str, account: str) -> str | None:
    from moto.sns.models import sns_backends

    try:
        topic = sns_backends[account][region].get_topic(topic_arn)
    except Exception:  # noqa: BLE001 - no such topic: the call itself answers that
        return None
    return _key_arn(topic.kms_master_key_id, region, account)
