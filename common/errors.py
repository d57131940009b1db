"""The storefront's one application error base, with codes the pages and the REST API share."""


class StorefrontError(Exception):
    """A rule the buyer broke or a service we depend on failed, said in the buyer's terms."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.fields = fields or ({field: [message]} if field else {})


class InvalidInput(StorefrontError):
    code = "invalid"


class NotAllowed(StorefrontError):
    code = "forbidden"
    status = 403
