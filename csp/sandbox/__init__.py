"""Partner Center sandbox: plays Microsoft (Partner Center, sign-in, Graph, admin portal) for demos and tests.

An independent second reading of partner-center-api.md; it imports nothing from csp.partner_center or models.
"""
