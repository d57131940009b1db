from tests.checkout.conftest import direct_draft, owner_draft  # noqa: F401
from tests.pc_sandbox import sandbox, sandbox_server  # noqa: F401
