"""The columns of an import file, the headers accepted for each, and the columns of the export."""

from __future__ import annotations

# Accepted headers per column: case-insensitive, spaces and hyphens count as "_", a trailing "*" is ignored.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "enterprise_name", "enterprise", "企业名称", "名称", "企业"),
    "code": ("code", "enterprise_code", "企业编码", "企业代码", "编码", "代码"),
    "partner_type": ("partner_type", "type", "伙伴类型", "企业类型", "合作伙伴类型", "类型"),
    "tier": ("tier", "partner_tier", "等级", "伙伴等级", "级别"),
    "region": ("region", "区域", "地区", "所属区域"),
    "parent_code": ("parent_code", "parent", "上级企业编码", "上级编码", "上级企业"),
    "contact_phone": ("contact_phone", "phone", "联系电话", "电话"),
    "admin_name": ("admin_name", "管理员姓名", "管理员名称", "管理员"),
    "admin_email": ("admin_email", "管理员邮箱", "管理员电子邮箱", "邮箱"),
    "admin_mobile": ("admin_mobile", "管理员手机", "管理员手机号", "手机号", "手机"),
}
# Columns the export adds for people; an exported file can be imported again.
IGNORED_COLUMNS = ("status", "状态", "parent_name", "上级企业名称", "created_at", "创建时间")
REQUIRED_COLUMNS = ("name", "partner_type")
EXPORT_COLUMNS = (*COLUMNS, "parent_name", "status", "created_at")
