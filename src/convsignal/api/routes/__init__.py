"""One module per resource; each exposes `router` (an APIRouter mounted under /v1)."""
