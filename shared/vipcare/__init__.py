"""VIP Care domain library, shipped to every function as the `vipcare` Lambda layer.

Data flows one way: handler -> services -> (domain decides, store persists, notify sends).
"""
