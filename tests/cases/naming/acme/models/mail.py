"""Mail models (an ``Invoice`` too: same name, another module)."""

from pydantic import BaseModel


class Invoice(BaseModel):
    """An invoice e-mail."""

    recipient: str
