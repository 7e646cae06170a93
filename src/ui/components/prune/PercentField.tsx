/** A labelled 0–90 % range input (the targets of the iterative and SlimGPT blocks). */
export function PercentField(props: { id: string; label: string; value: number; onChange: (v: number) => void }) {
  return (
    <div className="field">
      <label htmlFor={props.id}>
        {props.label}: {props.value}%
      </label>
      <input id={props.id} type="range" min={0} max={90} value={props.value} onChange={(e) => props.onChange(Number(e.target.value))} />
    </div>
  );
}
