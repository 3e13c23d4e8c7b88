"""The UI kit: what every feature's pages are built from, below every feature (it imports only the kernel).

- forms: reading a posted form (`Form`, `MultiForm`, `form_value(s)`, ids and numbers) and `safe_next`;
- refusals: an error as text for a page (`field_errors`, `message_of`, `refusal_of`);
- paging: the one paging helper (`page_number`, `page_links`, `paging`);
- downloads: a file download response (XLSX or CSV);
- labels: stored codes shown as words (audit objects, actions, channels, statuses, seeded names);
- checks: the `can` template test;
- templates/kit/macros.html: the form, table and pagination macros.

`portal.http.app` registers the kit's templates and template globals for every page.
"""

from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
