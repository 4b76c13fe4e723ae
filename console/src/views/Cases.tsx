export function Cases(_: { focus?: string }) {
  return <h1>Cases</h1>;
}
