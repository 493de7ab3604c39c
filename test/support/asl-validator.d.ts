/** asl-validator ships no type declarations: the part of its API the definition tests use. */
declare module 'asl-validator' {
  interface AslValidation {
    isValid: boolean;
    errors: { message: string }[];
    errorsText: (separator?: string) => string;
  }
  export default function aslValidator(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): AslValidation;
}
