"""Use cases: each composes domain rules, a repository and (later) notifications."""
