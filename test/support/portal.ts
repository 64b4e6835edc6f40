/**
 * The reference portal for tests: on a free loopback port, its data in the test's folder, backed
 * by Orthanc when given (the embedded store otherwise), and upload links from it.
 */
import path from 'node:path';
import { startPortal, type RunningPortal } from '../../portal/server.ts';
import type { CreateLinkInput } from '../../portal/service.ts';
import { freePort } from './free-port.ts';
import type { RunningOrthanc } from './orthanc.ts';

export async function startTestPortal(
  work: string,
  options: {
    staffPassword: string;
    orthanc?: RunningOrthanc;
    port?: number;
    publicUrl?: string;
    verifyRetryMs?: number;
  },
): Promise<RunningPortal> {
  const { orthanc, port, ...rest } = options;
  return startPortal({
    port: port ?? (await freePort()),
    dataDir: path.join(work, 'portal'),
    archive: orthanc ? `dicomweb:${orthanc.dicomWebUrl}` : 'embedded',
    log: () => {},
    ...rest,
  });
}

/** An upload link for the person (a neurologist's, for one day, sending as on the disc). */
export function createTestLink(
  portal: RunningPortal,
  person: { patientName: string; birthDate: string; email: string },
  options: Partial<Omit<CreateLinkInput, 'patientName' | 'birthDate' | 'email'>> = {},
): string {
  return portal.service.createLink(
    {
      ...person,
      provider: 'Dr. Ada Lovelace',
      department: 'Neurology',
      organization: 'St. Example Hospital',
      expiresInMs: 86_400_000,
      policy: { kind: 'none' },
      ...options,
    },
    'test',
  ).link;
}
