"""Human labels for stored codes shown on pages (audit object types, actions, channels).

Message ids are marked with N_ and translated where shown; packages add their own object types here.
"""

from __future__ import annotations

from portal.i18n import N_, gettext, lazy

OBJECT_LABELS: dict[str, str] = {
    "internal_users": N_("Staff account"),
    "enterprise_links": N_("Partner enterprise"),
    "memberships": N_("External user"),
    "invitations": N_("Invitation"),
    "partner_types": N_("Partner type"),
    "partner_tiers": N_("Partner tier"),
    "regions": N_("Region"),
    "crm_accounts": N_("CRM account"),
    "enterprise_link_status_changes": N_("Enterprise status change"),
    "interconnect_quotas": N_("Interconnect quota"),
    "import_jobs": N_("Import job"),
    "external_identities": N_("Partner login"),
    "roles": N_("Role"),
    "policy_rules": N_("Role permission"),
    "field_rules": N_("Field rule"),
    "role_templates": N_("Role template"),
    "data_rules": N_("Data permission"),
    "internal_scopes": N_("Staff data scope"),
    "sharing_rules": N_("Sharing rule"),
    "record_team_members": N_("Record team member"),
    "staff_teams": N_("Staff team"),
    "staff_team_members": N_("Staff team member"),
    "staff_team_regions": N_("Staff team region"),
    "agent_deals": N_("Deal"),
    "agent_leads": N_("Lead"),
    "agent_lead_pools": N_("Lead pool"),
    "agent_lead_rules": N_("Lead assignment rule"),
    "agent_lead_extensions": N_("Lead extension request"),
    "approval_flows": N_("Approval flow"),
    "approval_flow_steps": N_("Approval flow step"),
    "approval_requests": N_("Approval request"),
    "approval_delegations": N_("Approval delegation"),
    "ordering_categories": N_("Product category"),
    "ordering_products": N_("Product"),
    "ordering_product_visibility": N_("Product visibility"),
    "ordering_price_lists": N_("Price list"),
    "ordering_price_list_items": N_("Price list item"),
    "ordering_warehouses": N_("Warehouse"),
    "ordering_stock": N_("Stock"),
    "ordering_settings": N_("Ordering settings"),
    "ordering_cart_lines": N_("Cart line"),
    "ordering_orders": N_("Order"),
    "webhook_endpoints": N_("Webhook endpoint"),
    "integration_keys": N_("Integration key"),
    "ordering_order_lines": N_("Order line"),
    "ordering_order_events": N_("Order event"),
    "ordering_shipments": N_("Shipment"),
    "ordering_shipment_lines": N_("Shipment line"),
    "ordering_credit_limits": N_("Credit limit"),
    "ordering_payments": N_("Payment"),
    "ordering_payment_allocations": N_("Payment allocation"),
    "ordering_account_entries": N_("Account entry"),
    "ordering_addresses": N_("Address"),
    "service_devices": N_("Device"),
    "service_tickets": N_("Service ticket"),
    "service_settings": N_("Service settings"),
    "service_field_entries": N_("Work on site"),
    "service_part_stock": N_("Spare-parts stock"),
    "service_part_requests": N_("Parts request"),
    "service_part_request_lines": N_("Parts request line"),
    "oauth_clients": N_("Application (OAuth client)"),
    "oauth_consents": N_("Consent given to an application"),
    "wechat_mini_programs": N_("WeChat mini-program"),
    "wechat_official_accounts": N_("WeChat official account"),
    "wechat_bindings": N_("WeChat sign-in of a partner"),
    "wechat_templates": N_("WeChat template message"),
    "auth_sessions": N_("Sign-in session"),
    "agent_deal_terms": N_("Deal commission terms"),
    "agent_registration_settings": N_("Deal registration settings"),
    "agent_commission_rules": N_("Commission rule"),
    "agent_commission_statements": N_("Commission statement"),
    "agent_fund_budgets": N_("Fund budget"),
    "agent_fund_requests": N_("Fund request"),
    "announcements": N_("Announcement"),
    "announcement_audiences": N_("Announcement audience"),
    "attachments": N_("Stored file"),
    "business_calendars": N_("Business calendar"),
    "crm_contacts": N_("Contact"),
    "ordering_purchase_orders": N_("Purchase order"),
    "partner_domains": N_("Partner domain"),
    "service_dispatch_rules": N_("Dispatch rule"),
    "service_dispatch_rule_partners": N_("Dispatch rule partner"),
    "service_fees": N_("Service fee"),
    "service_settlements": N_("Service settlement"),
    "service_settlement_lines": N_("Service settlement line"),
    "service_dealer_tickets": N_("Service ticket opened by a dealer"),
    "service_stock_adjustments": N_("Spare-parts stock adjustment"),
    "service_sla_targets": N_("Service level target"),
    "sync_rules": N_("Sync rule"),
    "sync_peers": N_("Paired deployment"),
}
ACTION_LABELS: dict[str, str] = {
    "create": lazy.pgettext("audit action", "Created"),
    "update": N_("Changed"),
    "delete": N_("Deleted"),
    "sign_out": N_("Signed out"),
    "sign_out_all": N_("Signed out everywhere by an administrator"),
    # what cross-tenant sync records on both sides (docs/sync.md)
    "sync.applied": N_("Brought in step"),
    "sync.withdrawn": N_("Withdrawn by sync"),
    "sync.answered": N_("Answered by the partner's workspace"),
    "sync.resolved": N_("Sync conflict resolved"),
    "sync.conflict": N_("Sync conflict held"),
    "sync.key_clash": N_("Not synced: the partner has its own record with this key"),
    "sync.paired": N_("Paired with another deployment"),
    "sync.unpaired": N_("Unpaired"),
    "sync.inbound": N_("Received from a paired deployment"),
    "sync.carried": N_("Carried over to a new pairing with the same partner"),
}
CHANNEL_LABELS: dict[str, str] = {
    "web": N_("Web"),
    "api": N_("API"),
    "mobile": N_("Mobile app"),
    "oauth": N_("Other application"),
    "miniapp": N_("WeChat mini-program"),
    "official": N_("WeChat official account"),
    "cli": N_("Command line"),
    "system": N_("System"),
    "integration": N_("Integration key"),
}
# Status of a partner enterprise (enterprise link) and of an external user (membership).
LINK_STATUS_LABELS: dict[str, str] = {
    "invited": N_("Invited"),
    "active": N_("Active"),
    "suspended": N_("Suspended"),
    "terminated": N_("Terminated"),
}
MEMBER_STATUS_LABELS: dict[str, str] = {
    "invited": N_("Waiting for password"),
    "active": N_("Active"),
    "disabled": N_("Disabled"),
}
# Names the programme seeds (preset partner types, default tiers) are stored in English and shown translated.
PRESET_NAME_LABELS: dict[str, str] = {
    "Distributor": N_("Distributor"),
    "Dealer": N_("Dealer"),
    "Agent": N_("Agent"),
    "Service provider": N_("Service provider"),
    "Subsidiary": N_("Subsidiary"),
    "Store": N_("Store"),
    "Gold": N_("Gold"),
    "Silver": N_("Silver"),
    "Bronze": N_("Bronze"),
}


def label(kind: str, code: str) -> str:
    table = {
        "object": OBJECT_LABELS,
        "action": ACTION_LABELS,
        "channel": CHANNEL_LABELS,
        "link_status": LINK_STATUS_LABELS,
        "member_status": MEMBER_STATUS_LABELS,
        "preset": PRESET_NAME_LABELS,
    }[kind]
    return table.get(code, code)


def setting_name(name: str | None) -> str:
    """A partner type's or tier's name as shown: seeded names translated, the upstream's own as typed."""
    if not name:
        return ""
    return gettext(PRESET_NAME_LABELS[name]) if name in PRESET_NAME_LABELS else name
