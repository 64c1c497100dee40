"""Path analysis: which way a packet goes through a snapshot, what stops it, and the VPC reachability matrix.

Pure, like the rules: reads a snapshot, never AWS. world.py joins every account and region by id,
routing.py chooses the route (one implementation for VPC and transit gateway tables), walk.py follows
the packet, filters.py judges network ACLs and security groups, resolve.py places what the user named.
"""
