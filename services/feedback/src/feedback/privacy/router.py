from crm_shared.http.export import export_router
from feedback.privacy.repository import export_queries

router = export_router("feedback", export_queries)
