"""The data export of a customer (crm_shared.http.export): which rows of this service are theirs."""
