"""AWS list prices the cost model uses: us-east-1, on-demand, as published on the date below.
One place, dated, so a reader knows how old the dollars are. Update the date with the numbers."""

from __future__ import annotations

PRICES_AS_OF = "2026-11-23 (us-east-1 list prices, no free tier, no savings plans)"

LAMBDA_ARM64_PER_GB_SECOND = 0.0000133334
LAMBDA_PER_MILLION_REQUESTS = 0.20
API_GATEWAY_REST_PER_MILLION = 3.50  # first 333 million requests a month
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625  # on-demand write request units (price since Nov 2024)
DYNAMODB_PER_MILLION_READ_UNITS = 0.125  # on-demand read request units
SQS_STANDARD_PER_MILLION_REQUESTS = 0.40  # per 64 KB chunk
EVENTBRIDGE_CUSTOM_EVENTS_PER_MILLION = 1.00  # scheduled rules themselves are free
SMS_CHINA_PER_MESSAGE = 0.02  # an assumption: SNS SMS prices vary by country and carrier

# Not a price: what a DynamoDB or SQS round trip adds to a function's billed duration (Lambda
# bills wall time, waits included). An assumption for a function in the table's region.
ASSUMED_AWS_CALL_MS = 5.0
