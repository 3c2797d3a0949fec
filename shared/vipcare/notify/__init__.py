"""Outbound messages: member SMS through SNS and manager tasks (later issues)."""
