// Files bundled into the worker as text (wrangler.toml [[rules]] type "Text").
declare module '*.sh' {
  const text: string;
  export default text;
}
