import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';

/**
 * The AMI the emulator's instances (the seeded victim, the workstation launch template) are launched from: the first
 * image moto lists, asked for by its id.
 *
 * Why not list every image and take the first, as before: moto holds over a thousand default images in each region,
 * and serializing that list (a megabyte) cost it about a second of CPU per call, for every victim seeded — the
 * largest single cost of an end-to-end test file on the emulator. An emulator without that image (another moto
 * version) gets the first image it lists, as before.
 */
const MOTO_FIRST_DEFAULT_IMAGE = 'ami-03cf127a';

export async function emulatorImageId(ec2: EC2Client, owners?: string[]): Promise<string | undefined> {
  const known = await ec2.send(
    new DescribeImagesCommand({ ...(owners ? { Owners: owners } : {}), Filters: [{ Name: 'image-id', Values: [MOTO_FIRST_DEFAULT_IMAGE] }] }),
  );
  const found = known.Images?.[0]?.ImageId;
  if (found) return found;
  const all = await ec2.send(new DescribeImagesCommand(owners ? { Owners: owners } : {}));
  return all.Images?.[0]?.ImageId;
}
