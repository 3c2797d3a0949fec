"""Request and response models of the HTTP API, one module per area (the OpenAPI document
is generated from these). Import from the area's module: `from vipcare.api.models.members import
MemberCard`. Each module costs cold-start time, so a function imports only its own."""
