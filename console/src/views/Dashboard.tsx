export function Dashboard(_: { focus?: string }) {
  return <h1>Dashboard</h1>;
}
