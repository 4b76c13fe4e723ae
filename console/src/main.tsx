import { render } from "preact";
import { App } from "./app";
import { initLocale } from "./lib/i18n";
import "./styles.css";

initLocale();
render(<App />, document.getElementById("app")!);
