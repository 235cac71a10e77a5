export async function main(argv: string[]): Promise<number> { console.log("xsmq: not yet", argv); return 1; }
