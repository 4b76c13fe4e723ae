from crm_shared.http.export import export_router
from scoring.privacy.repository import export_queries

router = export_router("scoring", export_queries)
