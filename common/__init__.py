"""Building blocks every floor may use (csp, billing, storefront): the error base, one-row settings models and
their admin, short-lived in-process copies, ids and safe text. It imports no app of ours."""
