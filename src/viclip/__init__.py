"""ViCLIP (InternVid, ICLR 2024) for the Hugging Face ecosystem.

Importing this package registers the ViCLIP classes with the transformers Auto classes, so
``AutoModel.from_pretrained(folder)`` and ``AutoProcessor.from_pretrained(folder)`` work on
a saved ViCLIP folder without ``trust_remote_code``.
"""

__version__ = "0.1.0"

# --- modeling (issue 2) ---
# --- end modeling ---

# --- processing (issue 3) ---
# --- end processing ---

# --- conversion (issue 4) ---
# --- end conversion ---

# --- classification (issue 8) ---
# --- end classification ---
