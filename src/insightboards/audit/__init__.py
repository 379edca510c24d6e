"""The audit trail: what happened in each account (repository.py records it in the
transaction of each change; service.py lists it for the account's admins)."""
