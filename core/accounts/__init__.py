"""Accounts: the custom user model, staff two-factor enrolment and the login lockout hooks."""
