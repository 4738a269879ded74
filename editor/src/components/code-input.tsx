/** Code editor for the code node (CodeMirror 6, JavaScript). Loaded on demand with the settings panel. */
import CodeMirror from '@uiw/react-codemirror';
import { javascript } from '@codemirror/lang-javascript';

const extensions = [javascript()];

export default function CodeInput({ id, value, onChange, testId }: { id: string; value: string; onChange: (v: string) => void; testId: string }) {
  return (
    <div className="code-input" data-testid={testId} id={id}>
      <CodeMirror value={value} height="180px" extensions={extensions} onChange={onChange} basicSetup={{ lineNumbers: true, foldGutter: false }} aria-label="Code" />
    </div>
  );
}
