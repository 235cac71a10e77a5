// INSIDE XS: freezes the built-ins the way Moddable's linker does after preload (xs/tools/xsl.c
// fxFreezeBuiltIns, documentation/xs/preload.md): the built-in prototypes, Atomics/JSON/Math/Reflect, and every
// built-in function. Then `this.name = ...` in an Error subclass throws "set name: not writable", as on a board.

type AnyFunction = (...args: unknown[]) => unknown;

function protoOf(value: unknown): object | undefined {
  return value === null || value === undefined ? undefined : (Object.getPrototypeOf(value) as object | undefined);
}

/** The objects xsl.c freezes, as reachable from a script. */
function frozenByTheLinker(g: Record<string, unknown>): object[] {
  const objects: object[] = [];
  const add = (o: unknown): void => { if (o !== null && (typeof o === "object" || typeof o === "function")) objects.push(o as object); };
  for (const name of ["Atomics", "JSON", "Math", "Reflect"]) add(g[name]);
  for (const name of [
    "AggregateError", "ArrayBuffer", "Array", "BigInt", "Boolean", "Compartment", "DataView", "Date", "Error", "EvalError",
    "FinalizationRegistry", "Function", "Map", "Number", "Object", "Promise", "RangeError", "ReferenceError", "RegExp", "Set",
    "SharedArrayBuffer", "String", "Symbol", "SyntaxError", "TypeError", "URIError", "WeakMap", "WeakRef", "WeakSet",
    "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
    "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
  ]) {
    const ctor = g[name] as { prototype?: unknown } | undefined;
    if (ctor) add(ctor.prototype);
  }
  const typedArray = protoOf(Int8Array.prototype);
  add(typedArray);
  const arrayIterator = protoOf([][Symbol.iterator]());
  add(arrayIterator);
  add(protoOf(arrayIterator)); // %IteratorPrototype%
  add(protoOf(new Map()[Symbol.iterator]()));
  add(protoOf(new Set()[Symbol.iterator]()));
  add(protoOf(""[Symbol.iterator]()));
  add(protoOf(/x/[Symbol.matchAll]("x")));
  const generatorFunction = protoOf(function* () { /* probe */ }) as { prototype?: unknown } | undefined;
  add(generatorFunction);
  add(generatorFunction?.prototype); // %GeneratorPrototype%
  const asyncFunction = protoOf(async function () { /* probe */ });
  add(asyncFunction);
  const asyncGeneratorFunction = protoOf(async function* () { /* probe */ }) as { prototype?: unknown } | undefined;
  add(asyncGeneratorFunction);
  add(asyncGeneratorFunction?.prototype); // %AsyncGeneratorPrototype%
  add(protoOf(asyncGeneratorFunction?.prototype)); // %AsyncIteratorPrototype%
  add((Array.prototype as unknown as Record<symbol, unknown>)[Symbol.unscopables]);
  return objects;
}

/** Freezes `fn` and, once, every function reachable as a property of the given built-in objects. */
function freezeFunctions(objects: object[], g: Record<string, unknown>): void {
  const seen = new Set<object>();
  const freezeFn = (fn: unknown): void => {
    if (typeof fn !== "function" || seen.has(fn)) return;
    seen.add(fn);
    Object.freeze(fn);
    for (const key of Reflect.ownKeys(fn)) {
      const d = Object.getOwnPropertyDescriptor(fn, key);
      if (d) { freezeFn(d.value); freezeFn(d.get); freezeFn(d.set); }
    }
  };
  for (const o of objects) {
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d) { freezeFn(d.value); freezeFn(d.get); freezeFn(d.set); }
    }
  }
  // Global functions and constructors (parseInt, trace, Error, ...); globalThis itself stays open.
  for (const key of Reflect.ownKeys(g)) {
    const d = Object.getOwnPropertyDescriptor(g, key);
    if (d) freezeFn(d.value as AnyFunction);
  }
}

export function freezeBuiltIns(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  const objects = frozenByTheLinker(g);
  freezeFunctions(objects, g);
  for (const o of objects) Object.freeze(o);
}
