import { Modal } from './ui.js';

const mod = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';

export const SHORTCUTS: [string, string][] = [
  [`${mod}+Z`, 'Undo'],
  [`${mod}+Shift+Z / ${mod}+Y`, 'Redo'],
  [`${mod}+C / ${mod}+V`, 'Copy / paste the selection (also into another grid)'],
  [`${mod}+D`, 'Duplicate the selection'],
  [`${mod}+A`, 'Select all nodes'],
  ['Delete / Backspace', 'Delete the selection'],
  ['Shift+drag', 'Box-select'],
  [`${mod}+click / Shift+click`, 'Add to the selection'],
  ['Shift+L', 'Auto-layout'],
  ['Shift+F', 'Fit the view'],
  ['Drag from a port', 'Connect nodes (invalid targets are refused while dragging)'],
  ['Esc', 'Close panels / clear the selection'],
  ['?', 'This help'],
];

export function HelpPanel({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose} testId="help-panel">
      <table className="table shortcuts">
        <tbody>
          {SHORTCUTS.map(([k, v]) => (
            <tr key={k}>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">Drag nodes from the palette onto the canvas, or click one to add it where your mouse was last. The grid saves itself as you work; Publish makes the draft the version that webhooks and schedules run.</p>
    </Modal>
  );
}
