/** An evidence object as written: its key, its SHA-256 and, in a versioned bucket, its version. */
export interface SealedObject {
  key: string;
  sha256: string;
  versionId?: string;
}
