"""Hub folders: writing complete, self-contained folders, their model cards, and pushing them to the Hub."""

from .folder import (
    AUTO_CLASS_OF_MODEL,
    REMOTE_CODE_FILES,
    HubFolderError,
    atomic_folder,
    check_remote_code_imports,
    save_hub_folder,
)
from .push import PushError, check_folder, check_repo_id, list_upload_files, push_folder

__all__ = [
    "AUTO_CLASS_OF_MODEL",
    "REMOTE_CODE_FILES",
    "HubFolderError",
    "PushError",
    "atomic_folder",
    "check_folder",
    "check_remote_code_imports",
    "check_repo_id",
    "list_upload_files",
    "push_folder",
    "save_hub_folder",
]
