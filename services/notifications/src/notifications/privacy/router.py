from crm_shared.http.export import export_router
from notifications.privacy.repository import export_queries

router = export_router("notifications", export_queries)
