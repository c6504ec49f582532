-- Dashboard logins: the hash of the cookie's random id, the key it was made with, the CSRF token of its forms.
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  key_name TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
