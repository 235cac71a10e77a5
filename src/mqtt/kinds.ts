// `typeof x === "string"` evaluates the literal each time, and XS allocates a chunk for a string literal in code
// compiled at run time (24 bytes a compare, measured in the XS engine): paths that run per message compare
// against these module constants instead.
export const STRING = "string";
export const NUMBER = "number";
