"""What each function may do, as the SAM transform defines its execution role.

    python -m infra.local.permissions                   every function
    python -m infra.local.permissions EnrollmentFunction [...]
    python -m infra.local.permissions --can CareApiFunction dynamodb:Query \\
        arn:aws:dynamodb:us-east-1:123456789012:table/vipcare-MembersTable/index/listing

Policies are read from the transformed template (policy templates expanded, AWS managed
policies from moto's copy of AWS's documents) and resolved against the local names
(`vipcare-<LogicalId>`; the KMS key shows as its logical id). `--can` answers whether the role
allows the action on the resource, by the same evaluation the local stack and tests enforce.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import iam, resources, template, transform


def role_documents(function: str, cloudformation: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The function's role policies (inline and AWS managed), resolved against the local names."""
    cloudformation = cloudformation or template.cloudformation()
    props = template.functions(cloudformation)[function]
    role = cloudformation["Resources"][props["RoleId"]]["Properties"]
    names = resources.physical_names()
    for key in template.resources("AWS::KMS::Key"):
        names[key] = key
        names[f"{key}.Arn"] = f"arn:{transform.PARTITION}:kms:{transform.REGION}:{transform.ACCOUNT}:key/{key}"
    resolver = transform.Resolver(names, template.parameter_defaults())
    docs = [resolver.resolve(p["PolicyDocument"]) for p in role.get("Policies", [])]
    docs += [iam.managed_policy_document(arn) for arn in resolver.resolve(role.get("ManagedPolicyArns", []))]
    return docs


def describe(function: str) -> list[str]:
    props = template.functions()[function]
    lines = [f"{function}  (role {props['RoleId']}; code {props['CodeUri']})"]
    for doc in role_documents(function):
        for statement in iam._as_list(doc.get("Statement", [])):
            actions = ", ".join(iam._as_list(statement.get("Action") or statement.get("NotAction")))
            targets = iam._as_list(statement.get("Resource") or statement.get("NotResource") or "*")
            effect = "" if statement.get("Effect") == "Allow" else f"{statement.get('Effect')} "
            lines.append(f"  {effect}{actions}")
            lines += [f"      on {t}" for t in targets]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.permissions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("functions", nargs="*", help="function logical ids (default: all)")
    parser.add_argument("--can", nargs=3, metavar=("FUNCTION", "ACTION", "RESOURCE"))
    args = parser.parse_args(argv)
    known = template.functions()
    if args.can:
        function, action, resource = args.can
        if function not in known:
            print(f"no function {function!r}; functions: {', '.join(sorted(known))}")
            return 2
        ok = iam.allowed(role_documents(function), action, resource)
        print(f"{function} {'may' if ok else 'may NOT'} {action} on {resource}")
        return 0 if ok else 1
    for function in args.functions or sorted(known):
        if function not in known:
            print(f"no function {function!r}; functions: {', '.join(sorted(known))}")
            return 2
        print("\n".join(describe(function)))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
