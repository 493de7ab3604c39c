// The AWS SDK warns on every start that future releases will need Node.js 22. The project pins SDK versions in
// its lockfile and supports Node.js 20; the warning would bury the one-line errors responders rely on.
const original = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type === 'NodeVersionSupportWarning' || /will require node >=22/.test(text)) return;
  (original as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
export {};
