export function Admin(_: { focus?: string }) {
  return <h1>Admin</h1>;
}
