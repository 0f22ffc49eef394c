/** @jsxImportSource preact */
export {};
