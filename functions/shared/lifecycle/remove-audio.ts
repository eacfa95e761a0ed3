import type { AudioVersions } from './ports.js';

/**
 * Deletes every version (and delete marker) of one audio key: the older versions first and the current
 * one last, so that if S3 Object Lock refuses one (ObjectLockedError, thrown as is), the audio the record
 * points at is the last thing that could have gone. Returns how many versions were deleted.
 */
export async function deleteEveryVersion(audio: AudioVersions, key: string): Promise<number> {
  const versions = await audio.listVersions(key);
  const ordered = [...versions.filter((v) => !v.isLatest), ...versions.filter((v) => v.isLatest)];
  for (const version of ordered) await audio.deleteVersion(key, version.versionId);
  return ordered.filter((v) => !v.deleteMarker).length;
}
