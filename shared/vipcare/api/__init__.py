"""HTTP edge shared by every API function: request/response models, auth, error mapping."""
