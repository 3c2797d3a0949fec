"""Pure business rules: no I/O, no boto3, `now` is always passed in."""
