from tests.checkout.conftest import contoso, direct_draft, eager_worker, owner_draft, product  # noqa: F401
from tests.pc_sandbox import sandbox, sandbox_server  # noqa: F401
