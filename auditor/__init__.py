"""AWS network auditor: collect a read-only snapshot of VPC networking, audit it, report findings."""

__version__ = "0.1.0"
