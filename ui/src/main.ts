// Entry point: mounts the console (App.svelte) into index.html's #app with the global theme.
// A file dragged over the window is dropped only where a place takes it (the composer, a
// campaign's audience file); anywhere else it is refused rather than opened in the window.
import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";

for (const type of ["dragover", "drop"] as const) {
  window.addEventListener(type, (e) => {
    if (e.defaultPrevented || !e.dataTransfer?.types.includes("Files")) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "none";
  });
}

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");
export default mount(App, { target });
