"""Stored files: one interface to the bytes (store.py: local disk or an S3-compatible bucket), the checks
every upload passes (uploads.py: size, type by content, images re-encoded, hostile files refused), the
attachments table that says whose a file is (models.py), and serving it only through the owning feature's
permission check (attachments.py, serving.py). See docs/storage.md."""
